import datetime as dt

import pytest

from dokja.programme import ProgrammeError, frontier_window, load_programme, months_before

GOOD = """
name = "Test programme"
[[stages]]
id = "stage-1"
name = "Stage 1"
date = 2025-12-30
keep = 4
"""


def write(tmp_path, text):
    path = tmp_path / "programme.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_first_real_stage(tmp_path):
    spec = load_programme(write(tmp_path, GOOD))
    s = spec.scheme
    assert (s.ministry, s.global_common, s.global_individual, s.expert, s.user) == (10, 20, 10, 35, 25)
    assert s.benchmark == 40 and s.total == 100
    assert spec.frontier.window_months == 6 and spec.frontier.target_ratio == 0.95


@pytest.mark.parametrize("text, field", [
    (GOOD.replace("keep = 4", "keep = 0"), "stages[0].keep"),
    (GOOD.replace("date = 2025-12-30", 'date = "soon"'), "stages[0].date"),
    (GOOD + "\n[scheme]\nexpert = -3\n", "scheme.expert"),
    (GOOD + "\nsurprise = 1\n", "surprise"),
    ('name = "x"\n', "stages"),
    (GOOD + '\n[[references]]\nname = "X"\nvendor = "V"\nreleased = 2025-01-01\n', "references[0]"),
])
def test_malformed_file_names_file_and_field_in_one_line(tmp_path, text, field):
    path = write(tmp_path, text)
    with pytest.raises(ProgrammeError) as info:
        load_programme(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and field in message


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ProgrammeError, match="not valid TOML"):
        load_programme(write(tmp_path, "name = [unclosed"))
    with pytest.raises(ProgrammeError, match="file not found"):
        load_programme(tmp_path / "nope.toml")


def test_stages_must_be_in_date_order(tmp_path):
    text = GOOD + '\n[[stages]]\nid = "stage-0"\nname = "earlier"\ndate = 2025-06-30\nkeep = 5\n'
    with pytest.raises(ProgrammeError, match="date order"):
        load_programme(write(tmp_path, text))


def test_frontier_window_is_six_calendar_months():
    assert frontier_window(dt.date(2025, 12, 30), 6) == (dt.date(2025, 6, 30), dt.date(2025, 12, 30))
    assert months_before(dt.date(2026, 8, 31), 6) == dt.date(2026, 2, 28)
