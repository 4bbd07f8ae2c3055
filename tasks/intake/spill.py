"""Valid records held between the check and the write of a large import (校验后待写入的记录).

Chunks stay in memory up to ``keep`` records; beyond that every chunk goes to a temporary file
(pickled), so a 100,000-row workbook is checked completely — all or nothing — without holding
100,000 records at once. Chunks come back in the order they were added.
"""

from __future__ import annotations

import pickle
import tempfile
from typing import IO, Iterator, Optional

from tasks.intake.record import IntakeRecord

KEEP_IN_MEMORY = 10_000


class RecordSpill:
    def __init__(self, keep: int = KEEP_IN_MEMORY):
        self.keep, self.count = keep, 0
        self._chunks: list[list[IntakeRecord]] = []
        self._file: Optional[IO[bytes]] = None
        self._on_file = 0

    def add(self, records: list[IntakeRecord]) -> None:
        if not records:
            return
        self.count += len(records)
        if self._file is None and self.count <= self.keep:
            self._chunks.append(records)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="srdi-intake-")
            for chunk in self._chunks:
                self._dump(chunk)
            self._chunks = []
        self._dump(records)

    @property
    def in_memory(self) -> bool:
        return self._file is None

    def _dump(self, records: list[IntakeRecord]) -> None:
        pickle.dump(records, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._on_file += 1

    def __iter__(self) -> Iterator[list[IntakeRecord]]:
        if self._file is None:
            yield from self._chunks
            return
        self._file.seek(0)
        for _ in range(self._on_file):
            yield pickle.load(self._file)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._chunks = []
