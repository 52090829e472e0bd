"""Properties of the extractor: any text gives a well-formed draft, and generated
announcements of random organizations are read back to the operations they state."""

from __future__ import annotations

import os
from collections.abc import Mapping

from benchmarks.extraction import canonical
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgledger.announcements import extract
from orgledger.errors import PlanError
from orgledger.model import Unit
from orgledger.phrases import load
from orgledger.plan import parse_plan

TABLE = load()
EXAMPLES = int(os.environ.get("ORGLEDGER_FUZZ_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Names are made of these words, so that generated organizations read like real ones.
EN_WORDS = [
    "Cloud",
    "Retail",
    "Payments",
    "Mobile",
    "Media",
    "Games",
    "Search",
    "Maps",
    "Energy",
    "Health",
    "Logistics",
    "Security",
    "Devices",
    "Content",
    "Travel",
]
EN_KINDS = ["Group", "Division", "Department", "Lab", "Center"]
ZH_WORDS = [
    "云",
    "零售",
    "支付",
    "移动",
    "媒体",
    "游戏",
    "搜索",
    "地图",
    "能源",
    "健康",
    "物流",
    "安全",
    "终端",
    "内容",
    "出行",
]
ZH_KINDS = ["事业群", "事业部", "部", "实验室", "中心"]


def _org(draw: st.DrawFn) -> dict[str, Unit]:
    count = draw(st.integers(4, 9))
    picks = draw(
        st.lists(st.integers(0, len(EN_WORDS) - 1), min_size=count, max_size=count, unique=True)
    )
    units = {"acme": Unit("acme", None, "company", {"en": "Acme", "zh": "艾克美"})}
    for n, pick in enumerate(picks):
        kind = draw(st.integers(0, len(EN_KINDS) - 1))
        parent = draw(st.sampled_from(sorted(units)))
        uid = f"u{n}"
        names = {"en": f"{EN_WORDS[pick]} {EN_KINDS[kind]}", "zh": ZH_WORDS[pick] + ZH_KINDS[kind]}
        abbr = f"{EN_WORDS[pick][:3].upper()}{EN_KINDS[kind][0]}" if draw(st.booleans()) else None
        units[uid] = Unit(uid, parent, (kind and "department") or "group", names, abbr)
    return units


def _subtree(units: Mapping[str, Unit], top: str) -> set[str]:
    out = {top}
    grew = True
    while grew:
        grew = False
        for uid, unit in units.items():
            if unit.parent in out and uid not in out:
                out.add(uid)
                grew = True
    return out


EN_TEMPLATES = {
    "move": [
        "{a} will move to {b}.",
        "{a} will be transferred to {b}.",
        "Acme will move {a} to {b}.",
        "{a} will now report to {b}.",
    ],
    "dissolve": ["{a} will be dissolved.", "Acme will dissolve {a}.", "{a} is being wound down."],
    "rename": ["{a} will be renamed {new}.", "Acme will rename {a} to {new}."],
    "keep": ["{a} will remain unchanged.", "{a} will not be dissolved."],
}
ZH_TEMPLATES = {
    "move": ["{a}调整至{b}。", "将{a}划归{b}。", "{a}整体划入{b}。"],
    "dissolve": ["撤销{a}。", "{a}将被撤销。", "解散{a}。"],
    "rename": ["{a}更名为{new}。", "将{a}更名为{new}。"],
    "keep": ["{a}保持不变。", "{a}不会撤销。"],
}


@st.composite
def announcements(draw: st.DrawFn) -> tuple[dict[str, Unit], str, list[dict[str, object]]]:
    """A random organization, one statement about one of its units, and the op it states."""
    units = _org(draw)
    lang = draw(st.sampled_from(["en", "zh"]))
    kind = draw(st.sampled_from(["move", "dissolve", "rename", "keep"]))
    uid = draw(st.sampled_from(sorted(u for u in units if u != "acme")))
    unit = units[uid]
    templates = (EN_TEMPLATES if lang == "en" else ZH_TEMPLATES)[kind]
    template = draw(st.sampled_from(templates))
    by_abbr = unit.abbr is not None and draw(st.booleans())
    a = unit.abbr if by_abbr else unit.names[lang]
    ops: list[dict[str, object]] = []
    b = new = ""
    if kind == "move":
        options = sorted(set(units) - _subtree(units, uid) - {unit.parent or ""})
        if not options:
            kind, template = "dissolve", templates[0]
            template = (EN_TEMPLATES if lang == "en" else ZH_TEMPLATES)["dissolve"][0]
        else:
            to = draw(st.sampled_from(options))
            b = units[to].names[lang]
            ops = [{"move": uid, "to": to}]
    if kind == "dissolve":
        ops = [{"dissolve": uid}]
    if kind == "rename":
        word = draw(st.sampled_from(EN_WORDS if lang == "en" else ZH_WORDS))
        new = f"{word} Solutions Unit" if lang == "en" else f"{word}解决方案部"
        taken = {n for u in units.values() for n in u.names.values()}
        if new in taken:
            kind = "keep"
            template = (EN_TEMPLATES if lang == "en" else ZH_TEMPLATES)["keep"][0]
        else:
            ops = [{"rename": uid, "names": {lang: new}}]
    if kind == "keep":
        ops = []
    dateline = "London, 2 May 2024 - " if lang == "en" else "2024年5月2日，"
    noise = (
        '"We are proud of the team," said Jane Doe, whose revenue grew 12% to $4.1 billion.'
        if lang == "en"
        else "“我们为团队感到骄傲。”总裁张伟表示，收入同比增长12%至41亿元。"
    )
    text = dateline + template.format(a=a, b=b, new=new) + "\n" + noise + "\n"
    return units, text, ops


@SETTINGS
@given(announcements())
def test_a_stated_change_is_read_back(case):
    units, text, ops = case
    draft = extract(text, lambda day: units, TABLE, root="acme")
    assert draft.effective is not None and draft.effective.isoformat() == "2024-05-02"
    got = canonical(draft.plan()["ops"])
    assert got == canonical(ops), (text, draft.to_yaml())


FRAGMENTS = [
    "Sales",
    "Engineering",
    "SLS",
    "销售部",
    "研发部",
    "the new",
    "a newly formed",
    " will ",
    " be ",
    "not ",
    "merged into",
    "moved to",
    "dissolved",
    "renamed",
    "split into",
    "and",
    ", ",
    ". ",
    "。",
    "，",
    "、",
    "(",
    ")",
    "（",
    "）",
    "[",
    "]",
    "成立",
    "撤销",
    "整合",
    "并入",
    "调整至",
    "更名为",
    "拆分为",
    "不会",
    "Group",
    "Lab",
    "1 May 2024",
    "2024年5月1日",
    "\n",
    "which",
    "Jane Doe",
    "establish",
    "report directly to the CEO",
    "作为集团一级",
    '"',
    "“",
]
texts = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=600),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
)


@SETTINGS
@given(texts)
def test_any_text_gives_a_draft_of_the_plan_form(text):
    units = {
        "acme": Unit("acme", None, "company", {"en": "Acme"}),
        "sales": Unit("sales", "acme", "department", {"en": "Sales", "zh": "销售部"}, "SLS"),
        "eng": Unit("eng", "acme", "department", {"en": "Engineering", "zh": "研发部"}),
    }
    draft = extract(text, lambda day: units, TABLE, root="acme")
    body = draft.to_yaml()
    try:
        parse_plan(body, "draft.yaml")
    except PlanError as exc:
        # Only what the draft marks for a person to settle may fail the form check.
        for problem in exc.problems:
            if problem.code == "empty":
                assert not draft.operations, body
                continue
            assert problem.code in {"bad-id", "bad-date"}, (problem, body)
            assert (
                "ambiguous: " in str(problem)
                or "unknown: " in str(problem)
                or ("not-in-the-text" in str(problem))
            ), (problem, body)
