"""idbridge: set up, validate and review the Microsoft Entra ID <-> AWS IAM Identity Center bridge."""

__version__ = "0.1.0"
