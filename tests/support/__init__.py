"""What the tests share: helpers, servers, private engines, clients and the test app."""
