"""Renderers that turn a run record into HTML, markdown, JSON and JUnit."""
