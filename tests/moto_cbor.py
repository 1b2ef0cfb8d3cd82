"""CloudWatch over Smithy RPC v2 CBOR for moto 5.2.5.

The AWS SDKs for Rust call CloudWatch with the RPC v2 CBOR protocol
(POST /service/GraniteServiceVersion20100801/operation/<Operation>, header
`smithy-protocol: rpc-v2-cbor`); moto serves CloudWatch only over the query
protocol and answers those requests 404. This adapter, installed in front of
moto's WSGI application, decodes the request, calls moto's CloudWatch backend,
and encodes the answer as AWS does (timestamps as CBOR tag 1, errors as
`{"__type", "message"}` with status 400). It covers the operations ebhook and
its tests use.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Callable

import cbor2
from moto.cloudwatch.models import cloudwatch_backends
from moto.moto_server import werkzeug_app

DEFAULT_ACCOUNT = "123456789012"
PREFIX = "/service/GraniteServiceVersion20100801/operation/"
_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


class _Fail(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _naive_utc(value: Any) -> Any:
    if isinstance(value, (int, float)):
        value = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _aware(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def _get_metric_data(backend: Any, p: dict) -> dict:
    queries = p.get("MetricDataQueries") or []
    for query in queries:
        if "MetricStat" not in query and "Expression" not in query:
            raise _Fail("ValidationError", "MetricStat or Expression is required")
    results = backend.get_metric_data(
        queries=queries,
        start_time=_naive_utc(p["StartTime"]),
        end_time=_naive_utc(p["EndTime"]),
        scan_by=p.get("ScanBy") or "TimestampDescending",
    )
    return {
        "MetricDataResults": [
            {
                "Id": r["id"],
                "Label": r["label"],
                "Values": [float(v) for v in r["values"]],
                "Timestamps": [_aware(t) for t in r["timestamps"]],
                "StatusCode": r["status_code"],
            }
            for r in results
        ]
    }


def _alarm(a: Any) -> dict:
    alarm = {
        "AlarmName": a.name,
        "AlarmArn": a.alarm_arn,
        "AlarmDescription": a.description,
        "ActionsEnabled": bool(a.actions_enabled),
        "OKActions": list(a.ok_actions or []),
        "AlarmActions": list(a.alarm_actions or []),
        "InsufficientDataActions": list(a.insufficient_data_actions or []),
        "StateValue": a.state_value,
        "StateReason": a.state_reason,
        "StateUpdatedTimestamp": _aware(a.state_updated_timestamp),
        "MetricName": a.metric_name,
        "Namespace": a.namespace,
        "Statistic": a.statistic,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in a.dimensions],
        "Period": int(a.period) if a.period is not None else None,
        "EvaluationPeriods": int(a.evaluation_periods) if a.evaluation_periods is not None else None,
        "DatapointsToAlarm": int(a.datapoints_to_alarm) if a.datapoints_to_alarm is not None else None,
        "Threshold": float(a.threshold) if a.threshold is not None else None,
        "ComparisonOperator": a.comparison_operator,
        "TreatMissingData": a.treat_missing_data,
        "Unit": a.unit,
    }
    return {k: v for k, v in alarm.items() if v is not None}


def _describe_alarms(backend: Any, p: dict) -> dict:
    if p.get("AlarmNames"):
        alarms = backend.get_alarms_by_alarm_names(p["AlarmNames"])
    elif p.get("AlarmNamePrefix"):
        alarms = backend.get_alarms_by_alarm_name_prefix(p["AlarmNamePrefix"])
    elif p.get("StateValue"):
        alarms = backend.get_alarms_by_state_value(p["StateValue"])
    else:
        alarms = backend.describe_alarms()
    return {"MetricAlarms": [_alarm(a) for a in alarms], "CompositeAlarms": []}


def _set_alarm_state(backend: Any, p: dict) -> dict:
    backend.set_alarm_state(p["AlarmName"], p.get("StateReason", ""), p.get("StateReasonData"), p["StateValue"])
    return {}


def _get_dashboard(backend: Any, p: dict) -> dict:
    dashboard = backend.get_dashboard(p["DashboardName"])
    if dashboard is None:
        raise _Fail("ResourceNotFound", f"Dashboard {p['DashboardName']} does not exist")
    return {"DashboardArn": dashboard.arn, "DashboardBody": dashboard.body, "DashboardName": dashboard.name}


def _list_dashboards(backend: Any, p: dict) -> dict:
    return {
        "DashboardEntries": [
            {"DashboardName": d.name, "DashboardArn": d.arn, "Size": d.size}
            for d in backend.list_dashboards(p.get("DashboardNamePrefix") or "")
        ]
    }


def _put_metric_data(backend: Any, p: dict) -> dict:
    data = []
    for datum in p.get("MetricData") or []:
        datum = dict(datum)
        if "Timestamp" in datum:
            datum["Timestamp"] = _naive_utc(datum["Timestamp"])
        data.append(datum)
    backend.put_metric_data(p["Namespace"], data)
    return {}


OPERATIONS: dict[str, Callable[[Any, dict], dict]] = {
    "GetMetricData": _get_metric_data,
    "DescribeAlarms": _describe_alarms,
    "SetAlarmState": _set_alarm_state,
    "GetDashboard": _get_dashboard,
    "ListDashboards": _list_dashboards,
    "PutMetricData": _put_metric_data,
}


def _answer(start_response: Any, status: str, payload: dict) -> list[bytes]:
    body = cbor2.dumps(payload, datetime_as_timestamp=True)
    start_response(
        status,
        [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def _wrap(original: Any) -> Any:
    def __call__(self: Any, environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ.get("HTTP_SMITHY_PROTOCOL") != "rpc-v2-cbor" or not path.startswith(PREFIX):
            return original(self, environ, start_response)
        operation = path[len(PREFIX):]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        region = _REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
        backend = cloudwatch_backends[DEFAULT_ACCOUNT][region.group(1) if region else "us-east-1"]
        handler = OPERATIONS.get(operation)
        if handler is None:
            return _answer(
                start_response,
                "400 Bad Request",
                {"__type": "UnknownOperationException", "message": f"the emulator lacks {operation} over CBOR"},
            )
        try:
            params = cbor2.loads(raw) if raw else {}
            return _answer(start_response, "200 OK", handler(backend, params or {}))
        except _Fail as e:
            return _answer(start_response, "400 Bad Request", {"__type": e.code, "message": str(e)})
        except Exception as e:  # moto's own errors: AWS's error shape, the class as the code
            code = getattr(e, "error_type", None) or getattr(e, "code", None) or type(e).__name__
            return _answer(start_response, "400 Bad Request", {"__type": str(code), "message": str(e)})

    return __call__


def install() -> None:
    app = werkzeug_app.DomainDispatcherApplication
    app.__call__ = _wrap(app.__call__)
