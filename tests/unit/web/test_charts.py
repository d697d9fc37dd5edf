"""Server-drawn SVG charts: well-formed, escaped, described in words, no inline style."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ocop.web import charts
from ocop.web.charts import Series

SVG = "{http://www.w3.org/2000/svg}"
NASTY = "Bánh <&> \"cáy\" 'ngon'"


def _parse(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))  # raises on anything not well-formed
    assert root.tag == f"{SVG}svg"
    return root


def _charts() -> dict[str, str]:
    return {
        "columns": charts.column_chart(
            ["01/11", NASTY, "03/11"],
            [Series("Quét lần đầu", [3, 0, 12]), Series("Quét <lại>", [1, 2, 0])],
            title=f"Lượt quét {NASTY}",
            empty="Chưa có",
            chart_id="c1",
        ),
        "bars": charts.bar_chart(
            [NASTY, "Mật ong hoa nhãn Hưng Hà"],
            [Series("Quét lần đầu", [40, 5]), Series("Quét lại", [10, 0])],
            title="Theo sản phẩm",
            empty="Chưa có",
            chart_id="c2",
        ),
        "line": charts.line_chart(
            ["10/11", "11/11", NASTY],
            [0, 4, 1],
            title="Từ khi thu hồi",
            label="Lượt quét",
            empty="Chưa có",
            chart_id="c3",
        ),
    }


@pytest.mark.parametrize("kind", ["columns", "bars", "line"])
def test_charts_are_well_formed_and_escape_every_text(kind: str) -> None:
    markup = _charts()[kind]
    root = _parse(markup)
    assert "<&>" not in markup  # escaped in the markup...
    texts = ["".join(e.itertext()) for e in root.iter()]
    assert any(NASTY in t for t in texts)  # ...and read back whole by an XML parser


@pytest.mark.parametrize("kind", ["columns", "bars", "line"])
def test_charts_scale_and_carry_a_text_alternative(kind: str) -> None:
    root = _parse(_charts()[kind])
    assert root.get("width") == "100%"
    assert root.get("viewBox").startswith(f"0 0 {charts.WIDTH} ")
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert desc.text  # the figures in words
    # The CSP forbids inline styles: presentation attributes only.
    assert all("style" not in e.attrib for e in root.iter())
    assert root.find(f".//{SVG}style") is None


def test_the_description_says_the_figures() -> None:
    root = _parse(_charts()["columns"])
    desc = root.find(f"{SVG}desc").text
    assert "01/11: Quét lần đầu 3, Quét <lại> 1" in desc
    assert "03/11: Quét lần đầu 12, Quét <lại> 0" in desc


def test_columns_stack_to_the_total_and_thin_their_labels() -> None:
    days = [f"{d:02d}/11" for d in range(1, 91)]
    markup = charts.column_chart(
        days, [Series("a", [1] * 90), Series("b", [2] * 90)], title="t", empty="e", chart_id="c"
    )
    root = _parse(markup)
    groups = root.findall(f"{SVG}g")
    assert len(groups) == 90 and all(len(g.findall(f"{SVG}rect")) == 2 for g in groups)
    axis = [t.text for t in root.findall(f"{SVG}text") if t.text in days]
    assert 5 <= len(axis) <= 12  # one label every few days, never 90 overlapping


def test_long_names_are_cut_to_fit() -> None:
    name = "Sản phẩm có một cái tên rất dài " * 4
    root = _parse(charts.bar_chart([name], [Series("a", [1])], title="t", empty="e", chart_id="c"))
    shown = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.startswith("Sản")]
    assert shown and shown[0].endswith("…") and len(shown[0]) < len(name)
    assert name in root.find(f"{SVG}g/{SVG}title").text  # the tooltip keeps it whole


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.column_chart(
            ["a", "b"], [Series("x", [0, 0])], title="t", empty=NASTY, chart_id="c"
        ),
        lambda: charts.bar_chart([], [Series("x", [])], title="t", empty=NASTY, chart_id="c"),
        lambda: charts.line_chart(["a"], [0], title="t", label="x", empty=NASTY, chart_id="c"),
    ],
)
def test_nothing_to_draw_says_so_instead_of_an_empty_chart(draw) -> None:
    markup = str(draw())
    assert "<svg" not in markup
    assert markup.startswith("<p") and "Bánh &lt;&amp;&gt;" in markup


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (12, [0, 5, 10, 15]),
        (100, [0, 50, 100]),
        (4321, [0, 2000, 4000, 6000]),
    ],
)
def test_gridlines_fall_on_round_numbers(top: int, ticks: list[int]) -> None:
    assert charts._ticks(top) == ticks
