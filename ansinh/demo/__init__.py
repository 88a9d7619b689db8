"""The demo province (Khánh Hòa) and the synthetic data generator; outside the app layers."""
