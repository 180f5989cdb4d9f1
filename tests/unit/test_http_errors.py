from background_posting.http.errors import describe_validation


def test_validation_errors_name_the_field_in_dotted_form() -> None:
    message, problems = describe_validation(
        [
            {
                "loc": ("body", "lines", 0, "quantity"),
                "msg": "Input should be a valid decimal",
                "type": "decimal_parsing",
            },
            {"loc": ("body", "currency"), "msg": "Field required", "type": "missing"},
        ]
    )
    assert problems == [
        {"field": "lines[0].quantity", "message": "Input should be a valid decimal"},
        {"field": "currency", "message": "is required"},
    ]
    assert message.startswith("lines[0].quantity Input should be a valid decimal.")
    assert "1 more problem" in message
