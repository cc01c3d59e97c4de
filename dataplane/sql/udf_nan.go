package sql

import (
	"database/sql/driver"
	"math"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// SQLite has no NaN: a NaN a function returns becomes NULL. PostgreSQL's
// float8 has one ('NaN'::float8, 'Infinity' - 'Infinity'), equal to itself
// and above every number. Rather than answer NULL silently, a function
// result that is NaN is refused with 0A000 (feature_not_supported).

// refuseNaN passes a function's result through unless it is a NaN.
func refuseNaN(name string, v driver.Value, err error) (driver.Value, error) {
	if f, ok := v.(float64); ok && err == nil && math.IsNaN(f) {
		return nil, &pgfn.Error{State: pgfn.StateFeatureNotSupported, Msg: name + ": NaN results are not supported (SQLite would turn them into NULL)"}
	}
	return v, err
}
