"""Notebook plumbing: figures as static PNGs, so a committed notebook shows its pictures.

GitHub renders a notebook's ``image/png`` outputs but not plotly's JSON ones (they
need JavaScript), and plotly JSON embeds every data point. ``static_figures`` makes
plotly render PNGs through kaleido (the ``notebook`` extra) and a local Chrome or
Chromium; without them figures stay interactive and the notebook still runs.
"""

from __future__ import annotations

import atexit
import shutil
import warnings

PNG_WIDTH, PNG_HEIGHT = 900, 380  # px at scale 1: ~20-60 KB per figure


def static_figures(width: int = PNG_WIDTH, height: int = PNG_HEIGHT) -> bool:
    """Render plotly figures as PNG when kaleido and a Chrome are here; True if so."""
    import plotly.io as pio

    try:
        import kaleido
    except ImportError:
        return False
    if not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome",
                                         "chrome")):
        return False  # kaleido would try to download one; keep the figures interactive
    png = pio.renderers["png"]
    png.width, png.height, png.scale = width, height, 1
    pio.renderers.default = "png"
    # one browser for every figure (~0.2 s each instead of a Chrome start per figure)
    warnings.filterwarnings("ignore", message="The kopts argument is ignored")
    kaleido.start_sync_server(silence_warnings=True)
    atexit.register(kaleido.stop_sync_server, silence_warnings=True)
    return True
