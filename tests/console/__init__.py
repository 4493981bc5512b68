"""Staff console tests."""
