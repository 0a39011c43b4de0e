"""ttscale: test-time scaling for multimodal math reasoning."""

__version__ = "0.1.0"
