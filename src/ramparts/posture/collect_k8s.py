"""Model servers in Kubernetes manifests, and the Services that expose them.

Part of the IaC evidence (:mod:`ramparts.posture.collect_iac`, whose docstring lists the
checks): workloads whose containers run a model server, matched by image or command
(vLLM, Ollama, text-generation-inference, Triton, TorchServe, TensorFlow Serving,
llama.cpp, LocalAI, SGLang, LMDeploy), and ``LoadBalancer``/``NodePort`` Services whose
selector matches their pod labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ramparts.core.records import field, record
from ramparts.core.types import Location
from ramparts.posture.interface import Fact
from ramparts.posture.repo_files import Hit, RepoFile, hits_fact

__all__ = ["SERVICE_KIND", "KubeServers"]

_WORKLOADS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod", "CronJob"}
)
SERVICE_KIND = re.compile(r"^kind:\s*Service\b", re.MULTILINE)
"""A manifest declaring a Service (worth parsing even without containers)."""
_MODEL_SERVERS = re.compile(
    r"vllm|ollama|text-generation-inference|tritonserver|triton|torchserve|tensorflow/serving"
    r"|llama\.cpp|llama-cpp|llamacpp|localai|sglang|lmdeploy",
    re.IGNORECASE,
)


@record(frozen=False)
class KubeServers:
    """Model-server containers and the Services that expose them, from manifests."""

    containers: list[tuple[Location, str, Mapping[str, Any], Mapping[str, Any]]] = field(
        default_factory=list
    )
    """(where, workload/container label, container, pod spec)."""
    pod_labels: list[tuple[Location, str, Mapping[str, Any]]] = field(default_factory=list)
    exposed: list[Hit] = field(default_factory=list)

    @classmethod
    def read(cls, manifests: list[tuple[RepoFile, list[Any]]]) -> KubeServers:
        """Collect model servers first, then match Services against their labels."""
        found = cls()
        services: list[tuple[Location, str, Mapping[str, Any]]] = []
        for file, docs in manifests:
            for doc in _flatten(docs):
                kind, name = str(doc.get("kind", "")), _name(doc)
                where = Location(file.rel)
                if kind == "Service":
                    spec = doc.get("spec")
                    if isinstance(spec, dict) and spec.get("type") in ("LoadBalancer", "NodePort"):
                        services.append((where, f"Service/{name} ({spec['type']})", spec))
                elif kind in _WORKLOADS:
                    found.workload(where, f"{kind}/{name}", doc)
        for where, label, spec in services:
            selector = spec.get("selector")
            if not isinstance(selector, dict) or not selector:
                continue
            for _, _, labels in found.pod_labels:
                if all(labels.get(k) == v for k, v in selector.items()):
                    found.exposed.append(Hit(f"{where.path} {label}", where))
                    break
        return found

    def workload(self, where: Location, label: str, doc: Mapping[str, Any]) -> None:
        """Record the model-server containers of one workload."""
        template = _pod_template(doc)
        spec = template.get("spec") if isinstance(template, dict) else None
        if not isinstance(spec, dict):
            return
        containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
        servers = [c for c in containers if _is_model_server(c)]
        if not servers:
            return
        meta = template.get("metadata") if isinstance(template, dict) else None
        labels = meta.get("labels") if isinstance(meta, dict) else None
        self.pod_labels.append((where, label, labels if isinstance(labels, dict) else {}))
        for container in servers:
            self.containers.append(
                (where, f"{label}/{container.get('name', '?')}", container, spec)
            )
            ports = container.get("ports") or []
            host_port = any(isinstance(p, dict) and p.get("hostPort") for p in ports)
            if spec.get("hostNetwork") is True or host_port:
                self.exposed.append(Hit(f"{where.path} {label} (host network or port)", where))

    def facts(self, note: str) -> list[Fact]:
        """``iac.model_server_*`` facts."""
        root: list[Hit] = []
        unlimited: list[Hit] = []
        for where, label, container, pod in self.containers:
            ctx: dict[str, Any] = {}
            for level in (pod, container):
                found = level.get("securityContext")
                ctx.update(found if isinstance(found, dict) else {})
            if (
                ctx.get("runAsNonRoot") is not True
                or ctx.get("runAsUser") == 0
                or ctx.get("privileged") is True
            ):
                root.append(Hit(f"{where.path} {label}", where))
            resources = container.get("resources")
            limits = resources.get("limits") if isinstance(resources, dict) else None
            if not (isinstance(limits, dict) and limits.get("memory")):
                unlimited.append(Hit(f"{where.path} {label}", where))
        count = len(self.containers)
        if not count:
            nothing = "no model-server container in Kubernetes manifests"
            return [
                Fact("iac.model_server_present", False, nothing + note),
                Fact("iac.model_server_exposed", (), nothing + note),
                Fact("iac.model_server_root", (), nothing + note),
                Fact("iac.model_server_no_limits", (), nothing + note),
            ]
        return [
            Fact(
                "iac.model_server_present",
                count > 0,
                f"{count} model-server container(s) in Kubernetes manifests{note}",
                tuple(dict.fromkeys(w for w, _, _, _ in self.containers))[:50],
            ),
            hits_fact(
                "iac.model_server_exposed",
                self.exposed,
                none=f"no LoadBalancer/NodePort Service or host port exposes {count} "
                "model-server container(s)",
                some="model servers exposed outside the cluster",
                note=note,
            ),
            hits_fact(
                "iac.model_server_root",
                root,
                none=f"all {count} model-server container(s) set runAsNonRoot: true",
                some="model-server containers that may run as root",
                note=note,
            ),
            hits_fact(
                "iac.model_server_no_limits",
                unlimited,
                none=f"all {count} model-server container(s) set a memory limit",
                some="model-server containers without a memory limit",
                note=note,
            ),
        ]


def _flatten(docs: list[Any]) -> Iterator[Mapping[str, Any]]:
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "List":
            yield from (item for item in doc.get("items") or [] if isinstance(item, dict))
        elif isinstance(doc, dict):
            yield doc


def _name(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata")
    return str(meta.get("name", "?")) if isinstance(meta, dict) else "?"


def _pod_template(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return None
    if doc.get("kind") == "Pod":
        return doc
    if doc.get("kind") == "CronJob":
        job = spec.get("jobTemplate")
        spec = job.get("spec") if isinstance(job, dict) else None
        if not isinstance(spec, dict):
            return None
    template = spec.get("template")
    return template if isinstance(template, dict) else None


def _is_model_server(container: Mapping[str, Any]) -> bool:
    words = [str(container.get("image", ""))]
    for key in ("command", "args"):
        value = container.get(key)
        if isinstance(value, list):
            words.extend(str(v) for v in value[:4])
    return bool(_MODEL_SERVERS.search(" ".join(words)))
