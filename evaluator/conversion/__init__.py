"""Turns the bundled real CIFAR-10 models into ONNX files, with code of our own (no exporter)."""
