"""The door to Centra: SOAP envelopes, safe response parsing, HTTP transport and the client."""
