import pytest

from dokja.programme.schema import Member, Team
from dokja.registry import RegistryError, add_model, add_team
from dokja.store import open_store


def test_team_without_student_is_refused(sqlite_url):
    team = Team(id="solo", name="Solo", members=[Member(name="A", role="lead"), Member(name="B", role="industry")])
    with open_store(sqlite_url).begin() as session, pytest.raises(RegistryError) as info:
        add_team(session, team)
    assert "no student member" in str(info.value) and "\n" not in str(info.value)


def test_team_with_student_is_registered_in_both_databases(store_url):
    team = Team(id="ok", name="OK", members=[Member(name="A", role="lead"), Member(name="S", role="student")])
    sessions = open_store(store_url)
    with sessions.begin() as session:
        add_team(session, team)
    with sessions.begin() as session:
        row = add_team(session, team)
        assert [m.role for m in row.members] == ["lead", "student"]


def test_missing_model_path(sqlite_url, tmp_path):
    with open_store(sqlite_url).begin() as session, pytest.raises(RegistryError) as info:
        add_model(session, "ghost", str(tmp_path / "no-such-model"), cache=tmp_path)
    assert str(info.value) == f"model path not found: {tmp_path / 'no-such-model'}"


@pytest.mark.parametrize("damage", ["not-gguf", "truncated", "garbage-after-magic"])
def test_corrupt_gguf_gives_one_clear_line(sqlite_url, tmp_path, smollm2_gguf, damage):
    bad = tmp_path / "bad.gguf"
    real = smollm2_gguf.read_bytes()
    bad.write_bytes({"not-gguf": b"PK\x03\x04" + real[4:4096], "truncated": real[: len(real) // 3],
                     "garbage-after-magic": b"GGUF" + bytes(range(256)) * 8}[damage])
    with open_store(sqlite_url).begin() as session, pytest.raises(RegistryError) as info:
        add_model(session, "bad", str(bad), cache=tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(bad) in message
    assert ("not a GGUF file" if damage == "not-gguf" else "corrupt GGUF file") in message


def test_real_gguf_registers_with_its_sha256(sqlite_url, tmp_path, smollm2_gguf):
    import hashlib

    with open_store(sqlite_url).begin() as session:
        row = add_model(session, "smol", str(smollm2_gguf), cache=tmp_path)
        assert row.kind == "gguf"
        assert row.sha256 == hashlib.sha256(smollm2_gguf.read_bytes()).hexdigest()
