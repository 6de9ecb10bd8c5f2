"""Target profiles beside the chatbot API's: how requests are sent, keyed and classified.

A profile turns a target's answers into the run's records (``harness.run.records``), so the
conformance core judges every profile's runs alike and learns nothing of a profile's wire format.
"""
