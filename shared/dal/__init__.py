"""Data access: PynamoDB models and the DynamoDB implementations of the stores."""
