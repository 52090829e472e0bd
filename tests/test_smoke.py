from orgledger import Ledger


def test_cli_runner_separates_streams(cli, tencent_db: str) -> None:
    ok = cli("show", "csig", "--at", "2018-09-30", "--db", tencent_db)
    assert ok.exit_code == 0, ok.output
    assert "Tencent Cloud" in ok.stdout
    bad = cli("show", "csig", "--at", "2010-01-01", "--db", tencent_db)
    assert bad.exit_code == 1
    assert bad.stderr.strip() == (
        "unit 'csig' is not active on 2010-01-01 (it starts on 2018-09-30) [inactive]"
    )
    assert bad.stdout == ""


def test_usage_errors_exit_2(cli, tencent_db: str) -> None:
    result = cli("show", "--at", "2023-02-30", "--db", tencent_db)
    assert result.exit_code == 2
    assert "2023-02-30" in result.stderr


def test_reopen_keeps_everything(tencent_db: str) -> None:
    with Ledger.open(tencent_db) as ledger:
        assert ledger.verify().ok
