from background_posting.http.error_answers import describe_validation, field_label


def test_validation_errors_name_the_field_by_its_label_and_keep_the_path_for_programs() -> None:
    # Given pydantic's errors for a bad quantity and a missing currency
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
    # Then each problem reads as a sentence naming the field as a person does
    assert problems == [
        {
            "field": "lines[0].quantity",
            "label": "Quantity on line 1",
            "message": 'Quantity on line 1 must be a number written as a string, such as "10.50".',
            "code": "decimal_parsing",
        },
        {
            "field": "currency",
            "label": "Currency",
            "message": "Currency is required: enter it.",
            "code": "missing",
        },
    ]
    # and the answer's message is the first, saying there is more
    assert message == (
        'Quantity on line 1 must be a number written as a string, such as "10.50". '
        "There is 1 more problem, listed with this one."
    )


def test_a_bound_reads_as_a_limit_not_as_pydantic_text() -> None:
    message, problems = describe_validation(
        [
            {
                "loc": ("body", "hourly", "start_offset_minutes"),
                "msg": "Input should be less than or equal to 59",
                "type": "less_than_equal",
                "ctx": {"le": 59},
            }
        ]
    )
    assert message == "Start offset (minutes) must be 59 or less."
    assert problems[0]["field"] == "start_offset_minutes"
    assert "Input should" not in message


def test_a_rule_of_the_whole_body_reads_without_value_error() -> None:
    message, problems = describe_validation(
        [
            {
                "loc": ("body",),
                "msg": "Value error, discount tiers must have distinct days, in increasing order",
                "type": "value_error",
            }
        ]
    )
    assert message == "Discount tiers must have distinct days, in increasing order."
    assert problems[0]["field"] == "body"
    assert "Value error" not in message and not message.startswith("body")


def test_labels_of_nested_fields() -> None:
    assert field_label(("body", "lines", 2, "value")) == "Value on line 3"
    assert field_label(("body", "periods", 0, "end")) == "End of period 1"
    assert field_label(("body", "trading_currencies", 1)) == "Trading currency 2"
    assert field_label(("body", "gl_accounts", "deferred_income")) == "Deferred income account"
    assert field_label(("body",)) == "The request"


def test_body_that_is_not_json() -> None:
    message, problems = describe_validation(
        [{"loc": ("body", 1), "msg": "JSON decode error", "type": "json_invalid"}]
    )
    assert message == "The request is not valid JSON: check its brackets, commas and quotes."
    assert problems[0]["field"] == "body"
