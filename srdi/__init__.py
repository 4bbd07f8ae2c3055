"""srdi — administration of China's 专精特新 (SRDI) SME programme."""

__version__ = "0.1.0"
