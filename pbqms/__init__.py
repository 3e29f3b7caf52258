"""PBQMS — 党建质量管理体系平台 (party-building quality management system)."""

__version__ = "0.1.0"
