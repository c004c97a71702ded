//! Reaching into YAML maps by a path of field names.

use serde_yaml::{Mapping, Value};

/// Builds the map key for a field name.
pub fn key(name: &str) -> Value {
    Value::String(name.to_string())
}

/// The value at `path`, if every step is a map holding the next field.
pub fn get<'a>(map: &'a Mapping, path: &[&str]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut current = map;
    for name in parents {
        current = current.get(*name)?.as_mapping()?;
    }
    current.get(*last)
}

/// The string at `path`, if there is one.
pub fn get_str<'a>(map: &'a Mapping, path: &[&str]) -> Option<&'a str> {
    get(map, path).and_then(Value::as_str)
}

/// The map at `path`, creating missing or null steps. A step that holds something other
/// than a map is an error naming that step's dotted path.
pub fn map_at<'a>(map: &'a mut Mapping, path: &[&str]) -> Result<&'a mut Mapping, String> {
    let mut current = map;
    for (depth, name) in path.iter().enumerate() {
        let slot = current
            .entry(key(name))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if slot.is_null() {
            *slot = Value::Mapping(Mapping::new());
        }
        current = slot
            .as_mapping_mut()
            .ok_or_else(|| format!("{}: expected a map", path[..=depth].join(".")))?;
    }
    Ok(current)
}

/// Sets the value at `path`, creating the maps above it; keeps the field's position when
/// it already exists.
pub fn put(map: &mut Mapping, path: &[&str], value: Value) -> Result<(), String> {
    let (last, parents) = path.split_last().expect("a path has at least one field");
    map_at(map, parents)?.insert(key(last), value);
    Ok(())
}

/// Removes and returns the value at `path`; a map left empty by the removal is removed too.
pub fn take(map: &mut Mapping, path: &[&str]) -> Option<Value> {
    match path {
        [] => None,
        [last] => map.shift_remove(*last),
        [first, rest @ ..] => {
            let child = map.get_mut(*first)?.as_mapping_mut()?;
            let taken = take(child, rest)?;
            if child.is_empty() {
                map.shift_remove(*first);
            }
            Some(taken)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Mapping {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn put_creates_parents_and_keeps_position() {
        let mut m = yaml("a: 1\nb:\n  c: 2\n  d: 3\n");
        put(&mut m, &["b", "c"], Value::from(9)).unwrap();
        put(&mut m, &["e", "f"], Value::from(4)).unwrap();
        assert_eq!(m, yaml("a: 1\nb:\n  c: 9\n  d: 3\ne:\n  f: 4\n"));
        let err = put(&mut m, &["a", "x"], Value::from(1)).unwrap_err();
        assert_eq!(err, "a: expected a map");
    }

    #[test]
    fn take_removes_emptied_parents() {
        let mut m = yaml("a:\n  b:\n    c: 1\nd: 2\n");
        assert_eq!(take(&mut m, &["a", "b", "c"]), Some(Value::from(1)));
        assert_eq!(m, yaml("d: 2\n"));
        assert_eq!(take(&mut m, &["x", "y"]), None);
    }
}
