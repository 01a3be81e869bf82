"""The national-interface gateway: `POST /fsi/api/rsfComIfsService/callService` and its Python client."""
