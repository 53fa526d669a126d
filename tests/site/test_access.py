"""Who may see and do what: each role against each page and action, over the real app and store."""

from __future__ import annotations

import pytest

ROLES = {"anonymous": None, "office": "office", "reviewer": "rev-a", "another reviewer": "rev-b",
         "team": "dasan", "another team": "nuri"}
EVERYONE = dict.fromkeys(ROLES, 200)


def only(*allowed: str) -> dict[str, int]:
    """Allowed roles get the page, the anonymous are sent to sign in, any other role is refused."""
    return {r: 200 if r in allowed else 303 if r == "anonymous" else 403 for r in ROLES}


PAGES = [
    ("/results", EVERYONE),
    ("/results/stage-1", EVERYONE),
    ("/results/stage-2", EVERYONE),
    ("/results/stage-1/grievances", EVERYONE),
    ("/teams/dasan", EVERYONE),
    ("/resources", EVERYONE),
    ("/verify", EVERYONE),
    ("/login", EVERYONE),
    ("/office", only("office")),
    ("/review", only("reviewer", "another reviewer")),
    ("/review/stage-1/dasan", only("reviewer")),  # rev-a is assigned dasan; rev-b is not
    ("/review/stage-1/nuri", only("another reviewer")),
    ("/team", only("team", "another team")),
]


@pytest.fixture(scope="module")
def clients(as_user):
    return {role: as_user(name) for role, name in ROLES.items()}


@pytest.mark.parametrize("path,expected", PAGES, ids=[p for p, _ in PAGES])
def test_pages(clients, path, expected):
    got = {role: clients[role].get(path).status_code for role in ROLES}
    assert got == expected
    if 303 in expected.values():
        assert clients["anonymous"].get(path).headers["location"] == f"/login?next={path}"


ACTIONS = [  # a POST with the session's own CSRF token and an empty form: refused before any work, or not
    ("/review/stage-1/dasan", only("reviewer")),
    ("/team/stage-2/waive", only("team", "another team")),
    ("/team/stage-2/grievance", only("team", "another team")),
]


@pytest.mark.parametrize("path,expected", ACTIONS, ids=[p for p, _ in ACTIONS])
def test_actions(clients, csrf_of, path, expected):
    for role, client in clients.items():
        response = client.post(path, data={"csrf": csrf_of(client)}, files={"x": ("", b"")})
        want = expected[role]
        if want == 200:  # let in; the empty form is then refused by the domain (422) or accepted (303)
            assert response.status_code in (303, 422), (role, response.status_code, response.text[:300])
        else:
            assert response.status_code == want, (role, response.status_code)


@pytest.mark.parametrize("path", [p for p, _ in ACTIONS] + ["/logout", "/login"])
def test_every_post_needs_the_sessions_csrf_token(clients, csrf_of, path):
    for role in ("office", "reviewer", "team", "another team"):
        client = clients[role]
        for token in (None, "forged", csrf_of(clients["another team" if role != "another team" else "team"])):
            data = {"name": "office", "password": "x"} | ({"csrf": token} if token else {})
            response = client.post(path, data=data, files={"x": ("", b"")})
            assert response.status_code == 403, (role, path, token, response.status_code)
            allowed = dict(ACTIONS).get(path, EVERYONE)[role] == 200
            assert ("The form has expired" in response.text and "양식이 만료되었습니다" in response.text) == allowed
