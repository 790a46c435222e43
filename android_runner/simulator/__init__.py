"""A simulated Android device (Snapdragon 855 profile) speaking the real ADB wire protocol on loopback.

Everything measured on it is simulated: `getprop ro.edgekit.simulated` is always `1` and the benchmark
stand-ins print a first line saying so.
"""
from .server import DeviceSimulator

__all__ = ["DeviceSimulator"]
