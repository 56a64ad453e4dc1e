//! Conversions between Python objects and JSON values, and between Python datetimes and instants.
//!
//! Graph payloads cross the boundary as plain `dict`/`list`/`str`/`int`/`float`/`bool`/`None`, which is what
//! the Odoo addon handles naturally and what `json.dumps` accepts.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Depth beyond which a payload is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

/// A JSON value as a new Python object.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python object (dict, list, tuple, str, int, float, bool, None) as a JSON value.
pub fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    from_py_at(obj, 0, &mut String::from("$"))
}

fn from_py_at(obj: &Bound<'_, PyAny>, depth: usize, path: &mut String) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{path}: nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is a subclass of int.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        return Err(PyValueError::new_err(format!(
            "{path}: integer out of range"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{path}: {v} is not a finite number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!("{path}: dictionary keys must be str"))
            })?;
            let key = key.to_str()?.to_owned();
            let mark = path.len();
            path.push('.');
            path.push_str(&key);
            let value = from_py_at(&v, depth + 1, path)?;
            path.truncate(mark);
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        let mut items = Vec::new();
        for (i, item) in obj.try_iter()?.enumerate() {
            let mark = path.len();
            path.push_str(&format!("[{i}]"));
            items.push(from_py_at(&item?, depth + 1, path)?);
            path.truncate(mark);
        }
        return Ok(Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "{path}: cannot send a {} to Microsoft Graph (use dict, list, str, int, float, bool or None)",
        obj.get_type().name()?
    )))
}

/// A timezone-aware `datetime.datetime` as an instant. Naive datetimes are refused: they are ambiguous, and
/// Odoo's naive datetimes are UTC, which the caller states with `.replace(tzinfo=datetime.timezone.utc)`.
pub fn timestamp_from_py(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<jiff::Timestamp> {
    let tzinfo = obj
        .getattr("tzinfo")
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a datetime.datetime")))?;
    if tzinfo.is_none() || obj.call_method0("utcoffset")?.is_none() {
        return Err(PyValueError::new_err(format!(
            "{name} must be timezone-aware (Odoo's naive datetimes are UTC: use .replace(tzinfo=datetime.timezone.utc))"
        )));
    }
    let seconds: f64 = obj.call_method0("timestamp")?.extract()?;
    let whole = seconds.floor();
    #[allow(clippy::cast_possible_truncation)]
    let nanos = ((seconds - whole) * 1e9).round() as i32;
    #[allow(clippy::cast_possible_truncation)]
    jiff::Timestamp::new(whole as i64, nanos.min(999_999_999))
        .map_err(|e| PyValueError::new_err(format!("{name} is out of range: {e}")))
}

/// An instant as a timezone-aware UTC `datetime.datetime`.
pub fn timestamp_to_py<'py>(py: Python<'py>, ts: jiff::Timestamp) -> PyResult<Bound<'py, PyAny>> {
    let datetime = py.import("datetime")?;
    let utc = datetime.getattr("timezone")?.getattr("utc")?;
    #[allow(clippy::cast_precision_loss)]
    let seconds = ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) / 1e9;
    datetime
        .getattr("datetime")?
        .call_method1("fromtimestamp", (seconds, utc))
}
