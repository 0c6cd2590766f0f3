"""Learning: the federated-learning maths, usable on its own like a library.

Aggregation rules (:mod:`ledgerlearn.learning.aggregation`), strategies, update
validation, attacks for evaluation, datasets and partitions, model adapters, local
training and an in-process simulation runner. Nothing here imports a chain layer.

Trust assumption: clients may be Byzantine; every rule states the fraction it tolerates.
"""
