"""The digest chart checked as an image: size, not blank, every zh-TW glyph in the font."""

from __future__ import annotations

import io
import logging
import warnings
from datetime import date

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from kpi import chart
from kpi.anonymise import SUPPRESSED as S

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
POINTS = [
    chart.TrendPoint(
        start=date(2026, 1 + i, 1),
        participation=0.10 + 0.02 * i,
        utilization=S if i == 2 else 0.03 + 0.01 * i,
        feedback=None if i == 0 else 0.5,
    )
    for i in range(8)
]
DOMAINS = {"psychology": 40, "legal": 12, "finance": S, "nutrition": 0}


def _render_capturing(
    caplog: pytest.LogCaptureFixture, draw: object, *args: object, **kwargs: object
) -> tuple[bytes, list[str]]:
    caplog.set_level(logging.DEBUG, logger="matplotlib")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw(*args, **kwargs)  # type: ignore[operator]
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    return png, [m for m in messages if "missing from font" in m or "Glyph" in m]


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_chart_is_a_png_of_the_expected_size_and_not_blank(
    caplog: pytest.LogCaptureFixture, locale: str
) -> None:
    png, missing = _render_capturing(caplog, chart.render, POINTS, DOMAINS, locale=locale)
    assert png[:8] == PNG_SIGNATURE
    image = Image.open(io.BytesIO(png))
    assert image.size == (1000, 450)
    pixels = _pixels(png)
    assert pixels.std() > 20  # lines, bars and text on white
    assert (pixels < 128).mean() > 0.01
    assert missing == []


def test_zh_tw_labels_come_from_the_bundled_cjk_font() -> None:
    assert chart.font_name() == "Noto Sans TC"
    assert "參與率" in chart.labels("zh-TW").values()


def test_the_glyph_check_would_catch_empty_boxes(caplog: pytest.LogCaptureFixture) -> None:
    def without_cjk_font() -> bytes:
        figure = Figure(figsize=(4, 2), dpi=50)
        FigureCanvasAgg(figure)
        figure.subplots().set_title(chart.labels("zh-TW")["trend"], fontfamily="DejaVu Sans")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()

    _, missing = _render_capturing(caplog, without_cjk_font)
    assert missing != []


def test_zh_tw_and_en_charts_differ() -> None:
    assert _pixels(chart.render(POINTS, DOMAINS)).shape == (450, 1000)
    zh = _pixels(chart.render(POINTS, DOMAINS, locale="zh-TW"))
    en = _pixels(chart.render(POINTS, DOMAINS, locale="en"))
    assert np.abs(zh - en).mean() > 0.1
