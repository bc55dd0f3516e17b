"""Orders: Norce's Order Receiver Service, delivery to the ERP and the ERP's answers back to Norce.

A layer above :mod:`norcekit.events`: it reuses the webhook secret checks and the delivery targets.
"""
