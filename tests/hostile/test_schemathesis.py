"""The arena's and the site's HTTP interface, fuzzed from their own OpenAPI schemas (generated in process: the
apps publish none): whatever a client sends, the answer is never a server error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemathesis

EXAMPLES = 12


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from dokja.arena.web import Limits
    from dokja.site import create_site

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'site.db'}"
    intake = create_site(url, cache=tmp_path_factory.mktemp("cache"), preload=False,
                         limits=Limits(prompts_per_visitor=10_000, prompts_per_address=10_000,
                                       votes_per_visitor=10_000, votes_per_address=10_000))
    with TestClient(intake):  # runs the lifespan: the ballot box and the workers the routes need
        yield intake


def operations(intake):
    schema = schemathesis.openapi.from_dict(intake.app.openapi())
    return [result.ok() for result in schema.get_all_operations()]


def test_no_route_answers_a_server_error(site):
    found = []
    ops = operations(site)
    assert len(ops) > 10

    @settings(max_examples=EXAMPLES * len(ops), deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def fuzz(data):
        operation = data.draw(st.sampled_from(ops))
        case = data.draw(operation.as_strategy())
        response = case.call(app=site)
        if response.status_code >= 500:
            found.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r}: {response.status_code}")

    fuzz()
    assert not found, "\n".join(found[:20])
