from __future__ import annotations

from pathlib import Path

import pytest

from pbqms.files import services
from pbqms.files.models import StoredFile

from . import samples


@pytest.fixture(autouse=True)
def file_root(settings, tmp_path) -> Path:
    """Every attachment test stores into its own folder, never into the data folder."""
    settings.PBQMS_FILE_ROOT = tmp_path / "files"
    return settings.PBQMS_FILE_ROOT


def files_on_disk(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def stored(tree, file_root) -> dict[str, StoredFile]:
    """An attached file of B01, one of the group B01G1 and one of B03 (outside everybody's scope)."""
    return {
        "b01": services.store_upload(None, samples.upload("整改报告.pdf"), unit=tree.b01, owner="test.record:1"),
        "g1": services.store_upload(None, samples.upload("照片.png"), unit=tree.g1, owner="test.record:2"),
        "b03": services.store_upload(None, samples.upload("会议记录.docx", samples.docx("第三支部")),
                                     unit=tree.b03, owner="test.record:3"),
    }
