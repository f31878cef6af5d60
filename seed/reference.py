"""The reference facts (`reference/llm_facts.yaml`): entities and sourced relations."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml reads the 130 KB file in milliseconds; pure Python is the fallback.
    from yaml import CSafeLoader as YamlLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as YamlLoader  # type: ignore[assignment]


@dataclass(frozen=True)
class Relation:
    id: str
    subject: str
    predicate: str
    object: Any
    source: str
    verified: bool
    note: str | None


@dataclass
class Reference:
    labs: dict[str, dict[str, Any]]
    papers: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]
    techniques: dict[str, dict[str, Any]]
    relations: dict[str, Relation]

    def verified(self, predicate: str | None = None) -> list[Relation]:
        """Verified relations, in file order, optionally of one predicate."""
        return [
            r
            for r in self.relations.values()
            if r.verified and (predicate is None or r.predicate == predicate)
        ]


def load_yaml(path: Path) -> Any:
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=YamlLoader)  # noqa: S506 - a safe loader


def load_reference(path: Path) -> Reference:
    data = load_yaml(path)
    relations = {
        r["id"]: Relation(
            id=r["id"],
            subject=r["subject"],
            predicate=r["predicate"],
            object=r["object"],
            source=str(r["source"]),
            verified=bool(r["verified"]),
            note=r.get("note"),
        )
        for r in data["relations"]
    }
    return Reference(
        labs={e["slug"]: e for e in data["labs"]},
        papers={e["slug"]: e for e in data["papers"]},
        models={e["slug"]: e for e in data["models"]},
        techniques={e["slug"]: e for e in data["techniques"]},
        relations=relations,
    )
