"""Runs stages as measured process trees: the worker pool, process launch, tree sampling.

Imports only `orchestrator.model`; knows nothing of SLA targets, reports or history.
"""
