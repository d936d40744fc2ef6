provider "aws" {
  region = "eu-west-1"
}

resource "aws_sagemaker_model" "churn" {
  name               = "churn-classifier"
  execution_role_arn = aws_iam_role.sagemaker.arn

  primary_container {
    image          = var.inference_image
    model_data_url = "s3://example-models/churn/model.tar.gz"
  }
}

# No kms_key_arn: the endpoint's storage volume is not encrypted with a customer key.
resource "aws_sagemaker_endpoint_configuration" "churn" {
  name = "churn-endpoint-config"

  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.churn.name
    initial_instance_count = 1
    instance_type          = "ml.m5.large"
  }
}

# No guardrail_configuration: prompts and answers pass unfiltered.
resource "aws_bedrockagent_agent" "support" {
  agent_name              = "support-assistant"
  agent_resource_role_arn = aws_iam_role.bedrock_agent.arn
  foundation_model        = "anthropic.claude-3-5-sonnet-20240620-v1:0"
  instruction             = "Answer customer questions about their orders and subscriptions."
}
