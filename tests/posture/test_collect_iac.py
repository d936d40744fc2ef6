"""IaC evidence: AI resources in Terraform and CloudFormation, model servers in Kubernetes."""

from __future__ import annotations

from pathlib import Path

import pytest
from posture_repo import collect


def tf(kind: str, body: str, name: str = "x") -> dict[str, str]:
    return {"infra/main.tf": f'resource "{kind}" "{name}" {{\n{body}\n}}\n'}


ENDPOINT = "aws_sagemaker_endpoint_configuration"
NOTEBOOK = "aws_sagemaker_notebook_instance"
AGENT = "aws_bedrockagent_agent"
COGNITIVE = "azurerm_cognitive_account"

TF_CASES: list[tuple[str, dict[str, str], str, bool]] = [
    (
        "endpoint-no-kms",
        tf(ENDPOINT, '  name = "e"\n  production_variants {\n    kms_key_arn = "nested"\n  }'),
        "iac.sagemaker_unencrypted",
        True,
    ),
    (
        "endpoint-kms",
        tf(ENDPOINT, "  kms_key_arn = aws_kms_key.k.arn"),
        "iac.sagemaker_unencrypted",
        False,
    ),
    (
        "notebook-no-kms",
        tf(NOTEBOOK, '  direct_internet_access = "Disabled"'),
        "iac.sagemaker_unencrypted",
        True,
    ),
    (
        "notebook-internet-default",
        tf(NOTEBOOK, "  kms_key_id = var.k"),
        "iac.sagemaker_network_exposed",
        True,
    ),
    (
        "notebook-internet-off",
        tf(NOTEBOOK, '  kms_key_id = var.k\n  direct_internet_access = "Disabled"'),
        "iac.sagemaker_network_exposed",
        False,
    ),
    (
        "model-no-isolation",
        tf("aws_sagemaker_model", '  name = "m"'),
        "iac.sagemaker_network_exposed",
        True,
    ),
    (
        "model-isolated",
        tf("aws_sagemaker_model", "  enable_network_isolation = true"),
        "iac.sagemaker_network_exposed",
        False,
    ),
    ("agent-no-guardrail", tf(AGENT, '  agent_name = "a"'), "iac.bedrock_agent_no_guardrail", True),
    (
        "agent-guardrail",
        tf(
            AGENT,
            '  guardrail_configuration {\n    guardrail_identifier = "g"\n    guardrail_version = "1"\n  }',
        ),
        "iac.bedrock_agent_no_guardrail",
        False,
    ),
    ("agent-no-cmk", tf(AGENT, '  agent_name = "a"'), "iac.bedrock_no_cmk", True),
    (
        "agent-cmk",
        tf(AGENT, "  customer_encryption_key_arn = aws_kms_key.k.arn"),
        "iac.bedrock_no_cmk",
        False,
    ),
    (
        "openai-public",
        tf(COGNITIVE, '  kind = "OpenAI"\n  local_auth_enabled = false'),
        "iac.azure_openai_public",
        True,
    ),
    (
        "openai-private",
        tf(COGNITIVE, '  kind = "OpenAI"\n  public_network_access_enabled = false'),
        "iac.azure_openai_public",
        False,
    ),
    (
        "openai-keys",
        tf(COGNITIVE, '  kind = "OpenAI"\n  public_network_access_enabled = false'),
        "iac.azure_openai_local_auth",
        True,
    ),
    (
        "openai-no-keys",
        tf(COGNITIVE, '  kind = "OpenAI"\n  local_auth_enabled = false'),
        "iac.azure_openai_local_auth",
        False,
    ),
    (
        "speech-not-openai",
        tf(COGNITIVE, '  kind = "SpeechServices"'),
        "iac.azure_openai_public",
        False,
    ),
    (
        "vertex-no-cmek",
        tf("google_vertex_ai_endpoint", '  display_name = "e"'),
        "iac.vertex_no_cmek",
        True,
    ),
    (
        "vertex-cmek",
        tf("google_vertex_ai_dataset", '  encryption_spec {\n    kms_key_name = "k"\n  }'),
        "iac.vertex_no_cmek",
        False,
    ),
]


@pytest.mark.parametrize(
    ("files", "fact", "flagged"), [c[1:] for c in TF_CASES], ids=[c[0] for c in TF_CASES]
)
def test_terraform_fact(tmp_path: Path, files: dict[str, str], fact: str, flagged: bool) -> None:
    facts = collect(tmp_path, files)
    got = facts[fact]
    assert bool(got.value) is flagged, got
    if flagged:
        assert isinstance(got.value, tuple)
        assert got.value[0].startswith("infra/main.tf:1 ")
        assert got.locations[0].line == 1


def test_presence_facts(tmp_path: Path) -> None:
    files = {
        **tf(ENDPOINT, "  kms_key_arn = var.k"),
        "infra/net.tf": 'resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\n',
    }
    facts = collect(tmp_path, files)
    assert facts["iac.present"].value is True
    assert facts["iac.sagemaker_present"].value is True
    assert facts["iac.bedrock_present"].value is False
    assert facts["iac.ai_resources"].value == (f"infra/main.tf:1 {ENDPOINT}.x",)


def test_no_iac(tmp_path: Path) -> None:
    facts = collect(tmp_path, {"infra/net.tf": 'resource "aws_vpc" "v" {}\n'})
    assert facts["iac.present"].value is False
    assert facts["iac.sagemaker_unencrypted"].value == ()


def test_braces_in_strings_do_not_end_the_block(tmp_path: Path) -> None:
    body = '  name = "x-${var.env}-}"\n  tags = { a = "}" }\n  kms_key_arn = var.k'
    facts = collect(tmp_path, tf(ENDPOINT, body))
    assert facts["iac.sagemaker_unencrypted"].value == ()


CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Agent:
    Type: AWS::Bedrock::Agent
    Properties:
      AgentName: support
      CustomerEncryptionKeyArn: !GetAtt Key.Arn
  Notebook:
    Type: AWS::SageMaker::NotebookInstance
    Properties:
      InstanceType: ml.t3.medium
      RoleArn: !Ref Role
      DirectInternetAccess: Disabled
"""


def test_cloudformation_with_intrinsic_tags(tmp_path: Path) -> None:
    facts = collect(tmp_path, {"stack.yaml": CFN})
    assert facts["iac.bedrock_agent_no_guardrail"].value == (
        "stack.yaml:3 AWS::Bedrock::Agent Agent",
    )
    assert facts["iac.bedrock_no_cmk"].value == ()
    assert facts["iac.sagemaker_unencrypted"].value == (
        "stack.yaml:8 AWS::SageMaker::NotebookInstance Notebook",
    )
    assert facts["iac.sagemaker_network_exposed"].value == ()
    assert facts["repo.unparsed_files"].value == ()


def deployment(image: str, extra: str = "", pod: str = "") -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
spec:
  template:
    metadata:
      labels:
        app: llm
    spec:
{pod}      containers:
        - name: server
          image: {image}
{extra}"""


SERVICE = """---
apiVersion: v1
kind: Service
metadata:
  name: llm
spec:
  type: {kind}
  selector:
    app: llm
"""
SAFE = """          securityContext:
            runAsNonRoot: true
          resources:
            limits:
              memory: 32Gi
"""


def test_model_server_exposed_by_load_balancer(tmp_path: Path) -> None:
    text = deployment("vllm/vllm-openai:v0.6.3", SAFE) + SERVICE.format(kind="LoadBalancer")
    facts = collect(tmp_path, {"deploy/llm.yaml": text})
    assert facts["iac.model_server_present"].value is True
    assert facts["iac.model_server_exposed"].value == (
        "deploy/llm.yaml Service/llm (LoadBalancer)",
    )
    assert facts["iac.model_server_root"].value == ()
    assert facts["iac.model_server_no_limits"].value == ()


def test_cluster_ip_service_is_not_exposure(tmp_path: Path) -> None:
    text = deployment("ollama/ollama:0.3.0", SAFE) + SERVICE.format(kind="ClusterIP")
    facts = collect(tmp_path, {"deploy/llm.yaml": text})
    assert facts["iac.model_server_exposed"].value == ()


def test_load_balancer_for_another_app_is_not_exposure(tmp_path: Path) -> None:
    text = deployment("nginx:1.27", SAFE) + SERVICE.format(kind="NodePort")
    facts = collect(tmp_path, {"deploy/web.yaml": text})
    assert facts["iac.model_server_present"].value is False
    assert facts["iac.model_server_exposed"].value == ()


def test_host_network_is_exposure(tmp_path: Path) -> None:
    text = deployment(
        "ghcr.io/huggingface/text-generation-inference:2.2", SAFE, "      hostNetwork: true\n"
    )
    facts = collect(tmp_path, {"deploy/tgi.yaml": text})
    assert facts["iac.model_server_exposed"].value == (
        "deploy/tgi.yaml Deployment/llm (host network or port)",
    )


def test_model_server_root_and_limits(tmp_path: Path) -> None:
    facts = collect(
        tmp_path, {"k8s/triton.yaml": deployment("nvcr.io/nvidia/tritonserver:24.05-py3")}
    )
    assert facts["iac.model_server_root"].value == ("k8s/triton.yaml Deployment/llm/server",)
    assert facts["iac.model_server_no_limits"].value == ("k8s/triton.yaml Deployment/llm/server",)


def test_pod_level_non_root_applies_to_containers(tmp_path: Path) -> None:
    pod = "      securityContext:\n        runAsNonRoot: true\n"
    facts = collect(tmp_path, {"k8s/llm.yaml": deployment("vllm/vllm-openai:v0.6.3", pod=pod)})
    assert facts["iac.model_server_root"].value == ()


def test_container_overriding_to_root_is_flagged(tmp_path: Path) -> None:
    pod = "      securityContext:\n        runAsNonRoot: true\n"
    extra = "          securityContext:\n            runAsUser: 0\n"
    facts = collect(tmp_path, {"k8s/llm.yaml": deployment("vllm/vllm-openai:v0.6.3", extra, pod)})
    assert facts["iac.model_server_root"].value == ("k8s/llm.yaml Deployment/llm/server",)


def test_helm_template_is_not_judged_and_says_so(tmp_path: Path) -> None:
    text = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  {{- toYaml .Values.spec | nindent 2 }}\n  containers: []\n"
    facts = collect(tmp_path, {"chart/templates/deploy.yaml": text})
    assert "could not be parsed" in facts["iac.model_server_present"].detail
