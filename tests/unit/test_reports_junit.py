"""JUnit XML, validated against the essentials of the common (Jenkins/Surefire) schema."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lxml import etree

from orchestrator.model.masking import Masker
from orchestrator.model.records import PoolRecord, StageStatus
from reports.junit import render_junit
from sla.verdict import apply_sla
from tests.helpers.reports_samples import HIDDEN, SCRIPT, policy, record, sample_run, stage

# The shape CI test-result viewers (Jenkins, GitLab, GitHub test reporters) accept: written
# from the common JUnit schema, with durations held to plain decimal seconds.
JUNIT_XSD = b"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:simpleType name="seconds">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9]+(\\.[0-9]+)?"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="count">
    <xs:restriction base="xs:string"><xs:pattern value="[0-9]+"/></xs:restriction>
  </xs:simpleType>
  <xs:complexType name="outcome" mixed="true">
    <xs:attribute name="type" type="xs:string"/>
    <xs:attribute name="message" type="xs:string"/>
  </xs:complexType>
  <xs:element name="failure" type="outcome"/>
  <xs:element name="error" type="outcome"/>
  <xs:element name="skipped" type="outcome"/>
  <xs:element name="system-out" type="xs:string"/>
  <xs:element name="system-err" type="xs:string"/>
  <xs:element name="property">
    <xs:complexType>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="value" type="xs:string" use="required"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="properties">
    <xs:complexType>
      <xs:sequence><xs:element ref="property" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="testcase">
    <xs:complexType>
      <xs:choice minOccurs="0" maxOccurs="unbounded">
        <xs:element ref="skipped"/>
        <xs:element ref="error"/>
        <xs:element ref="failure"/>
        <xs:element ref="system-out"/>
        <xs:element ref="system-err"/>
      </xs:choice>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="classname" type="xs:string"/>
      <xs:attribute name="time" type="seconds"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="testsuite">
    <xs:complexType>
      <xs:choice minOccurs="0" maxOccurs="unbounded">
        <xs:element ref="properties"/>
        <xs:element ref="testcase"/>
        <xs:element ref="system-out"/>
        <xs:element ref="system-err"/>
      </xs:choice>
      <xs:attribute name="name" type="xs:string" use="required"/>
      <xs:attribute name="tests" type="count" use="required"/>
      <xs:attribute name="failures" type="count" use="required"/>
      <xs:attribute name="errors" type="count" use="required"/>
      <xs:attribute name="skipped" type="count"/>
      <xs:attribute name="time" type="seconds"/>
      <xs:attribute name="timestamp" type="xs:string"/>
      <xs:attribute name="hostname" type="xs:string"/>
      <xs:attribute name="id" type="xs:string"/>
      <xs:attribute name="package" type="xs:string"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="testsuites">
    <xs:complexType>
      <xs:sequence><xs:element ref="testsuite" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
      <xs:attribute name="name" type="xs:string"/>
      <xs:attribute name="time" type="seconds"/>
      <xs:attribute name="tests" type="count"/>
      <xs:attribute name="failures" type="count"/>
      <xs:attribute name="errors" type="count"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
SCHEMA = etree.XMLSchema(etree.fromstring(JUNIT_XSD))


def parse_valid(text: str) -> etree._Element:
    """The document's root, after checking it against the schema."""
    root = etree.fromstring(text.encode("utf-8"))
    SCHEMA.assertValid(root)
    return root


def test_the_sample_run_is_valid_junit(tmp_path: Path) -> None:
    root = parse_valid(render_junit(sample_run(tmp_path), tmp_path, Masker([HIDDEN])))
    suite = root.find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert cases[("workflow.stages", "lint")].find("failure") is None
    unit_failure = cases[("workflow.stages", "unit")].find("failure")
    assert unit_failure is not None
    assert unit_failure.get("type") == "failed"
    assert SCRIPT in (unit_failure.text or "")  # escaped by the XML, text again when parsed
    assert "***" in (unit_failure.text or "")
    timeout = cases[("workflow.stages", "integration")].find("failure")
    assert timeout is not None
    assert timeout.get("type") == "timeout"
    assert cases[("workflow.stages", "security")].find("skipped") is not None


def test_an_sla_breach_is_the_failure_of_its_own_testcase(tmp_path: Path) -> None:
    root = parse_valid(render_junit(sample_run(tmp_path), tmp_path))
    sla = {c.get("name"): c for c in root.iter("testcase") if c.get("classname") == "workflow.sla"}
    assert set(sla) == {
        "lint duration",
        "typecheck duration",
        "unit duration",
        "integration duration",
        "run budget",
    }
    unit = sla["unit duration"].find("failure")
    assert unit is not None
    assert unit.get("type") == "sla.critical"
    assert sla["lint duration"].find("failure") is None
    assert "warning" in (sla["typecheck duration"].findtext("system-out") or "")


def test_a_slow_but_passing_stage_passes_where_it_ran() -> None:
    run = apply_sla(record(stage("unit", 99.0)), policy(unit=30))
    root = parse_valid(render_junit(run, Path()))
    stage_case, sla_case, budget_case = root.iter("testcase")
    assert stage_case.find("failure") is None
    assert sla_case.find("failure") is not None
    assert budget_case.get("name") == "run budget"
    assert budget_case.find("failure") is None


def test_the_counts_add_up(tmp_path: Path) -> None:
    root = parse_valid(render_junit(sample_run(tmp_path), tmp_path))
    suite = root.find("testsuite")
    assert suite is not None
    cases = list(suite.iter("testcase"))
    assert suite.get("tests") == str(len(cases)) == root.get("tests")
    assert suite.get("failures") == str(sum(1 for c in cases if c.find("failure") is not None))
    assert suite.get("errors") == "0"
    assert suite.get("skipped") == "1"


def test_an_error_stage_and_hostile_text_stay_valid() -> None:
    hostile = 'bad ]]> "quotes" & <tags> \x00\x1b[31m\x07 \ud800 end'
    run = record(
        stage(hostile, 1.0, status=StageStatus.ERROR, exit_code=None, error=hostile),
        stage("x", 0.0, status=StageStatus.CANCELLED),
        pool=PoolRecord(total_duration_s=1.0),
        exit_code=1,
    )
    root = parse_valid(render_junit(run, Path()))
    case = next(root.iter("testcase"))
    error = case.find("error")
    assert error is not None
    assert "<tags>" in (error.get("message") or "")
    assert case.get("name", "").startswith('bad ]]> "quotes" & <tags>')


def test_a_masked_token_never_reaches_the_xml(tmp_path: Path) -> None:
    run = replace(sample_run(tmp_path), lane_reasons=(HIDDEN,))
    assert HIDDEN not in render_junit(run, tmp_path, Masker([HIDDEN]))
