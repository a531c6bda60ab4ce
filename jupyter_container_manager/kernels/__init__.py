"""Jupyter kernels inside managed containers: the kernel provisioner, the kernel spec it
comes with, and the warm kernels behind ``run-code``."""
