"""The engine: the only package of jupyter_container_manager that imports the Docker SDK.
The backend seam (backend.py) and its Docker implementation (docker_backend.py); the
parts the manager builds on a backend: containers and their labels, files, processes,
terminals, the resident agent (and its JavaScript), watchers, ports, the warm pool and the
idle reaper. Callers outside reach all of it through ``ContainerManager`` (manager.py)."""
