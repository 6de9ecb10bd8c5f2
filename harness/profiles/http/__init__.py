"""The ``http`` profile: any HTTP API's rate limit, from status codes and wait headers."""

from harness.profiles.http.scenario import HttpCase, HttpScenario, load_http_scenario

__all__ = ["HttpCase", "HttpScenario", "load_http_scenario"]
