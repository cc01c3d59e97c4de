package pgfn

import "testing"

// The expected texts are PostgreSQL 15's answers (test/pgdiff/expected).
func TestExactArith(t *testing.T) {
	cases := []struct {
		op   string
		x, y any
		want string
	}{
		{"/", int64(1), "3.0", "0.33333333333333333333"},
		{"/", "19.99", int64(3), "6.6633333333333333"},
		{"/", int64(7), "2.0", "3.5000000000000000"},
		{"/", "1e3", int64(1), "1000.0000000000000000"},
		{"/", "0.1", "0.2", "0.50000000000000000000"},
		{"/", "-10.5", int64(3), "-3.5000000000000000"},
		{"%", "1.5", "0.5", "0.0"},
		{"%", "0.3", "0.1", "0.0"},
		{"%", int64(1), "3.0", "1.0"},
		{"%", "-10.5", int64(3), "-1.5"},
		{"+", "1.5", "0.5", "2.0"},
		{"+", int64(1), "3.0", "4.0"},
		{"-", "0.1", "0.1", "0.0"},
		{"*", "2.675", int64(100), "267.500"},
		{"*", "1.5e-7", int64(2), "0.00000030"},
		{"+", "10.50", int64(1), "11.50"},
	}
	for _, c := range cases {
		got, err := ExactArith(c.op, c.x, c.y)
		if err != nil || got != c.want {
			t.Errorf("%v %s %v = %v, %v; want %s", c.x, c.op, c.y, got, err, c.want)
		}
	}
	if _, err := ExactArith("/", int64(1), "0.0"); err == nil {
		t.Error("1 / 0.0: no division_by_zero")
	}
	if v, err := ExactArith("+", nil, int64(1)); v != nil || err != nil {
		t.Errorf("NULL + 1 = %v, %v", v, err)
	}
}

func TestExactColumnAndCast(t *testing.T) {
	if v, _ := ExactColumn(10.5, 2); v != "10.50" {
		t.Errorf("ExactColumn(10.5, 2) = %v", v)
	}
	for _, c := range []struct {
		v    any
		p, s int64
		want string
	}{
		{"12.345", 10, 4, "12.3450"}, {"0.005", 10, 4, "0.0050"}, {"999.995", 6, 2, "1000.00"},
		{int64(7), 0, 0, "7"}, {"1e3", 0, 0, "1000"}, {"-0.001", 5, 2, "0.00"},
	} {
		got, err := ExactCast(c.v, c.p, c.s)
		if err != nil || got != c.want {
			t.Errorf("ExactCast(%v, %d, %d) = %v, %v; want %s", c.v, c.p, c.s, got, err, c.want)
		}
	}
	if _, err := ExactCast("999.995", 5, 2); err == nil {
		t.Error("999.995::numeric(5,2): no overflow error")
	}
}

func TestExactAgg(t *testing.T) {
	cases := []struct {
		kind string
		in   []any
		want any
	}{
		{"avg", []any{int64(5)}, "5.0000000000000000"},
		{"avg", []any{"18.99", "18.99", "18.99"}, "18.9900000000000000"},
		{"avg", []any{"0.1", "0.2", "0.3"}, "0.20000000000000000000"},
		{"stddev_samp", []any{int64(1), int64(2), int64(4), int64(7)}, "2.6457513110645906"},
		{"stddev_pop", []any{"0.1", "0.2", "0.3"}, "0.08164965809277260329"},
		{"var_pop", []any{"-1.5", "2.25", int64(10)}, "22.9305555555555556"},
		{"stddev_samp", []any{"-1.5", "2.25", int64(10)}, "5.8647961033043027"},
		{"var_pop", []any{int64(1), nil, int64(3)}, "1.00000000000000000000"},
		{"var_samp", []any{int64(3)}, nil},
		{"var_pop", []any{int64(3)}, "0"},
		{"sum", []any{"1.50", "2.25", nil}, "3.75"},
		{"min", []any{"2.50", "1.25", "3.00"}, "1.25"},
		{"max", []any{"2.50", "1.25", "3.00"}, "3.00"},
		{"avg", []any{}, nil},
	}
	for _, c := range cases {
		a := &ExactAgg{Kind: c.kind}
		for _, v := range c.in {
			if err := a.Add(v); err != nil {
				t.Fatal(err)
			}
		}
		got, err := a.Result()
		if err != nil || got != c.want {
			t.Errorf("%s%v = %v, %v; want %v", c.kind, c.in, got, err, c.want)
		}
	}
	a := &ExactAgg{Kind: "avg", IntsOnly: true}
	_ = a.Add(int64(1))
	_ = a.Add(1.5)
	if got, _ := a.Result(); got != nil {
		t.Errorf("IntsOnly avg over a double = %v, want NULL (no twin)", got)
	}
}

// PostgreSQL 15's EXTRACT answers (test/pgdiff/expected/funcs-datetime).
func TestExactDatePart(t *testing.T) {
	y2k := int64(946684800000000)
	for _, c := range []struct {
		field string
		us    int64
		want  any
	}{
		{"second", y2k, "0.000000"}, {"epoch", y2k, "946684800.000000"}, {"milliseconds", y2k, "0.000"},
		{"julian", y2k, "2451545.0000000000000000000000000000"},
		{"second", y2k - 1000000, "59.000000"}, {"milliseconds", y2k - 1000000, "59000.000"},
		{"julian", 1609675200000000, "2459218.50000000000000000000"},
		{"julian", 1588860309123456, "2458977.58691115111111111111"},
		{"year", y2k, nil},
	} {
		got, err := ExactDatePart(c.field, c.us)
		if err != nil || got != c.want {
			t.Errorf("EXTRACT(%s FROM %d) = %v, %v; want %v", c.field, c.us, got, err, c.want)
		}
	}
	iv, _ := ParseInterval("1 day 2 hours")
	if got, _ := ExactIntervalPart("epoch", iv); got != "93600.000000" {
		t.Errorf("EXTRACT(epoch FROM INTERVAL '1 day 2 hours') = %v", got)
	}
	iv, _ = ParseInterval("1 year 1 month")
	if got, _ := ExactIntervalPart("epoch", iv); got != "34149600.000000" {
		t.Errorf("EXTRACT(epoch FROM INTERVAL '1 year 1 month') = %v", got)
	}
}

// PostgreSQL 15: round(1.005, 1) = 1.0, round(2.5) = 3, round(-2.675, 2)
// = -2.68, round(1234.5678, -2) = 1200, trunc(-2.79, 1) = -2.7.
func TestExactRound(t *testing.T) {
	for _, c := range []struct {
		x    any
		n    int64
		down bool
		want string
	}{
		{"1.005", 1, false, "1.0"}, {"2.5", 0, false, "3"}, {"-2.675", 2, false, "-2.68"},
		{"1234.5678", -2, false, "1200"}, {"-2.79", 1, true, "-2.7"}, {int64(5), 2, false, "5.00"},
		{"-0.4", 0, false, "0"},
	} {
		got, err := ExactRound(c.x, c.n, c.down)
		if err != nil || got != c.want {
			t.Errorf("round(%v, %d, down=%v) = %v, %v; want %s", c.x, c.n, c.down, got, err, c.want)
		}
	}
}
