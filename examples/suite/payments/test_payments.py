import pytest


def test_charge_card():
    assert 2 + 2 == 4


@pytest.mark.ticket("PAY-17")
def test_refund_rounds_to_cents():
    refund = round(2.675, 2)  # binary floating point: 2.67499999...
    assert refund == 2.68, "refund lost a cent"


@pytest.mark.ticket("PAY-18", "PAY-19")
def test_currency_conversion(database):
    assert database


def test_ledger_cleanup(temp_account):
    assert temp_account["id"] == 7


@pytest.mark.parametrize("amount", ["0.01", "€1 000,00", "[9999]"])
def test_amount_formats(amount):
    assert amount


class TestInvoice:
    def test_total(self):
        assert sum([1, 2, 3]) == 6


class TestReceipt:
    def test_total(self):
        assert sum([1, 2]) == 3
