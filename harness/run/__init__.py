"""A run directory: what the load writes and the judges read.

The record schema (``records``: every column, once, with the ``Outcome`` and ``ErrorClass``
vocabularies and the chat/probe split), its batches and sink (``batches``, ``sink``), the reader
(``reader``), ``run.json`` (``plan``), ``recording.json`` (``recording``), the step log of a
capacity search (``step_log``), and the check that a reader holds every record written
(``completeness``). Conformance, capacity, the report and the notebooks read a run through here.
"""
