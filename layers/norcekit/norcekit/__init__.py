"""norcekit: connects a merchant's systems to Norce Commerce (Connect, Query, Event) on AWS."""

__version__ = "0.1.0"
