"""AI resources in Terraform, CloudFormation, Kubernetes, Compose and Dockerfiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ramparts.scan.discover import AiAsset, discover


def _iac(root: Path, rel: str, text: str) -> list[AiAsset]:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return [a for a in discover(root).assets if a.kind == "iac"]


TERRAFORM = """
resource "aws_sagemaker_endpoint_configuration" "churn" {
  name = "cfg" # a comment with a { brace
  production_variants {
    variant_name = "primary"
  }
  kms_key_arn = aws_kms_key.models.arn
}

resource "aws_bedrockagent_agent" "support" {
  agent_name = "support"
  guardrail_configuration {
    guardrail_identifier = "gr"
    guardrail_version    = "1"
  }
}

resource "google_vertex_ai_endpoint" "ep" {
  name = "ep"
}

resource "azurerm_cognitive_account" "aoai" {
  name = "aoai"
  kind = "OpenAI"
}

resource "azurerm_cognitive_account" "speech" {
  name = "speech"
  kind = "SpeechServices"
}

resource "azurerm_cognitive_deployment" "gpt" {
  name = "gpt-4o"
}

resource "azurerm_machine_learning_workspace" "ws" {
  name = "ws"
}

resource "aws_s3_bucket" "models" {
  bucket = "models"
}
"""


def test_terraform_resources_with_attribute_names(tmp_path: Path) -> None:
    found = {a.name: a for a in _iac(tmp_path, "infra/main.tf", TERRAFORM)}
    assert set(found) == {
        "aws_sagemaker_endpoint_configuration.churn",
        "aws_bedrockagent_agent.support",
        "google_vertex_ai_endpoint.ep",
        "azurerm_cognitive_account.aoai",
        "azurerm_cognitive_deployment.gpt",
        "azurerm_machine_learning_workspace.ws",
    }
    config = found["aws_sagemaker_endpoint_configuration.churn"]
    assert config.provider == "aws-sagemaker"
    assert config.location.line == 2
    assert config.properties["attributes"] == "kms_key_arn,name,production_variants"
    agent = found["aws_bedrockagent_agent.support"]
    assert agent.provider == "aws-bedrock"
    assert agent.properties["attributes"] == "agent_name,guardrail_configuration"
    assert found["azurerm_cognitive_account.aoai"].provider == "azure-openai"
    assert found["google_vertex_ai_endpoint.ep"].provider == "google"
    assert found["azurerm_machine_learning_workspace.ws"].provider == "azure-ml"


def test_terraform_near_misses(tmp_path: Path) -> None:
    text = (
        '# resource "aws_sagemaker_endpoint" "old" {}\n'
        'data "aws_sagemaker_prebuilt_ecr_image" "img" {\n  repository_name = "x"\n}\n'
        'resource "aws_s3_bucket" "aws_sagemaker_models" {\n}\n'
    )
    assert _iac(tmp_path, "main.tf", text) == []


CFN_YAML = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ChurnEndpointConfig:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: primary
          ModelName: !Ref ChurnModel
      KmsKeyId: !Ref Key
  Agent:
    Type: "AWS::Bedrock::Agent"
    Properties:
      AgentName: support
  Bucket:
    Type: AWS::S3::Bucket
"""


def test_cloudformation_yaml(tmp_path: Path) -> None:
    found = {a.name: a for a in _iac(tmp_path, "template.yaml", CFN_YAML)}
    assert set(found) == {
        "AWS::SageMaker::EndpointConfig.ChurnEndpointConfig",
        "AWS::Bedrock::Agent.Agent",
    }
    config = found["AWS::SageMaker::EndpointConfig.ChurnEndpointConfig"]
    assert config.properties["attributes"] == "KmsKeyId,ProductionVariants"
    assert config.location.line == 3
    assert found["AWS::Bedrock::Agent.Agent"].provider == "aws-bedrock"


def test_cloudformation_json(tmp_path: Path) -> None:
    doc = {
        "Resources": {
            "Ep": {"Type": "AWS::SageMaker::Endpoint", "Properties": {"EndpointName": "x"}},
            "Q": {"Type": "AWS::SQS::Queue"},
        }
    }
    [asset] = _iac(tmp_path, "stack.json", json.dumps(doc, indent=2))
    assert (asset.name, asset.provider) == ("AWS::SageMaker::Endpoint.Ep", "aws-sagemaker")
    assert asset.properties["attributes"] == "EndpointName"


def test_cloudformation_near_miss(tmp_path: Path) -> None:
    text = "Description: we might use AWS::SageMaker::Endpoint later\nResources: {}\n"
    assert _iac(tmp_path, "template.yaml", text) == []


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
  labels:
    name: other
spec:
  template:
    spec:
      containers:
        - name: server
          image: "docker.io/vllm/vllm-openai:v0.6.3"
        - name: sidecar
          image: nginx:1.27
---
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: sklearn-iris
spec:
  predictor:
    model:
      modelFormat:
        name: sklearn
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: tgi
spec:
  template:
    spec:
      containers:
        - image: ghcr.io/huggingface/text-generation-inference@sha256:abc
"""


def test_kubernetes_model_servers_and_kserve(tmp_path: Path) -> None:
    found = {a.name: a for a in _iac(tmp_path, "deploy/llm.yaml", DEPLOYMENT)}
    assert set(found) == {
        "Deployment/llm",
        "InferenceService/sklearn-iris",
        "StatefulSet/tgi",
    }
    vllm = found["Deployment/llm"]
    assert vllm.provider == "vllm"
    assert vllm.properties["image"] == "docker.io/vllm/vllm-openai:v0.6.3"
    assert vllm.location.line == 12
    assert found["InferenceService/sklearn-iris"].provider == "kserve"
    assert found["InferenceService/sklearn-iris"].location.line == 17
    assert found["StatefulSet/tgi"].provider == "huggingface"


@pytest.mark.parametrize(
    "image",
    ["nginx:1.27", "myorg/vllm-openai-proxy:1", "example.com/ollama/ollama-exporter:2", "vllm"],
)
def test_kubernetes_near_misses(tmp_path: Path, image: str) -> None:
    text = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - image: {image}\n"
    assert _iac(tmp_path, "pod.yaml", text) == []


def test_kserve_kind_needs_its_api_group(tmp_path: Path) -> None:
    text = "apiVersion: example.com/v1\nkind: InferenceService\nmetadata:\n  name: x\n"
    assert _iac(tmp_path, "crd.yaml", text) == []


def test_compose_service(tmp_path: Path) -> None:
    text = "services:\n  llm:\n    image: ollama/ollama:latest\n  db:\n    image: postgres:16\n"
    [asset] = _iac(tmp_path, "compose.yaml", text)
    assert (asset.name, asset.provider, asset.properties["workload"]) == ("llm", "ollama", "llm")


def test_dockerfile(tmp_path: Path) -> None:
    text = "FROM nvcr.io/nvidia/tritonserver:24.08-py3\nCOPY models /models\n"
    [asset] = _iac(tmp_path, "Dockerfile", text)
    assert (asset.name, asset.provider) == ("nvcr.io/nvidia/tritonserver", "nvidia")
    assert _iac(tmp_path / "other", "Dockerfile", "FROM python:3.12-slim\n") == []
