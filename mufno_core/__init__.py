"""mufno_core: Fourier Neural Operators with the maximal-update parametrization (μP) over modes K.

After "Maximal Update Parametrization and Zero-Shot Hyperparameter Transfer for Fourier Neural
Operators" (ICML 2025, arXiv 2506.19396).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mufno")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

from mufno_core.model import FNO  # noqa: E402
from mufno_core.spectral import SpectralConv  # noqa: E402

__all__ = ["FNO", "SpectralConv", "__version__"]
