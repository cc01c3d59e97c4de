// JDBC suite for the PostgreSQL listener (jdbc_test.go runs it with the
// PostgreSQL JDBC driver from the distribution, /usr/share/java/postgresql.jar).
// Usage: java -cp postgresql.jar:. Suite host port password
// Prints "ok <check>" per passed check and exits 1 on the first failure.
import java.sql.*;
import java.math.BigDecimal;

public class Suite {
    static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAIL " + what);
            System.exit(1);
        }
        System.out.println("ok " + what);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/kalamdb?sslmode=disable";
        try (Connection c = DriverManager.getConnection(url, "root", args[2])) {
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE NAMESPACE jd");
                s.execute("CREATE SHARED TABLE jd.items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10,2), ok BOOLEAN, at TIMESTAMP)");
            }
            check(true, "ddl");
            try (PreparedStatement p = c.prepareStatement("INSERT INTO jd.items (id, name, price, ok, at) VALUES (?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 3; i++) {
                    p.setLong(1, i);
                    p.setString(2, "item" + i);
                    p.setBigDecimal(3, new BigDecimal(i + ".25"));
                    p.setBoolean(4, i % 2 == 1);
                    p.setTimestamp(5, Timestamp.valueOf("2024-01-0" + i + " 10:00:00"));
                    check(p.executeUpdate() == 1, "insert " + i);
                }
            }
            try (PreparedStatement p = c.prepareStatement("SELECT id, name, price, ok, at FROM jd.items WHERE id >= ? ORDER BY id")) {
                p.setLong(1, 2);
                try (ResultSet r = p.executeQuery()) {
                    check(r.next() && r.getLong(1) == 2 && r.getString(2).equals("item2"), "select row 2");
                    check(r.getBigDecimal(3).compareTo(new BigDecimal("2.25")) == 0 && !r.getBoolean(4), "select types");
                    check(r.getTimestamp(5).equals(Timestamp.valueOf("2024-01-02 10:00:00")), "select timestamp");
                    ResultSetMetaData md = r.getMetaData();
                    check(md.getColumnCount() == 5 && md.getColumnType(1) == Types.BIGINT && md.getColumnType(3) == Types.NUMERIC, "result metadata");
                    check(r.next() && r.getLong(1) == 3 && !r.next(), "select row 3");
                }
            }
            try (Statement s = c.createStatement()) {
                check(s.executeUpdate("UPDATE jd.items SET name = 'x' WHERE id = 1") == 1, "update");
                check(s.executeUpdate("DELETE FROM jd.items WHERE id = 3") == 1, "delete");
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM jd.items")) {
                    check(r.next() && r.getLong(1) == 2, "count");
                }
                try {
                    s.executeQuery("SELECT * FROM jd.nope");
                    check(false, "missing table raises");
                } catch (SQLException e) {
                    check(e.getSQLState() != null && e.getSQLState().startsWith("42"), "missing table SQLSTATE " + e.getSQLState());
                }
            }
            DatabaseMetaData md = c.getMetaData();
            check(md.getDatabaseProductName().equals("PostgreSQL"), "product name");
            boolean found = false;
            try (ResultSet r = md.getTables(null, "jd", "%", new String[] {"TABLE"})) {
                while (r.next()) {
                    found |= r.getString("TABLE_SCHEM").equals("jd") && r.getString("TABLE_NAME").equals("items");
                }
            }
            check(found, "getTables");
            StringBuilder cols = new StringBuilder();
            try (ResultSet r = md.getColumns(null, "jd", "items", "%")) {
                while (r.next()) {
                    cols.append(r.getString("COLUMN_NAME")).append(':').append(r.getString("TYPE_NAME")).append(' ');
                }
            }
            check(cols.toString().equals("id:int8 name:text price:numeric ok:bool at:timestamp "), "getColumns " + cols);
            StringBuilder pk = new StringBuilder();
            try (ResultSet r = md.getPrimaryKeys(null, "jd", "items")) {
                while (r.next()) {
                    pk.append(r.getString("TABLE_SCHEM")).append('.').append(r.getString("TABLE_NAME")).append(':')
                        .append(r.getString("COLUMN_NAME")).append(':').append(r.getShort("KEY_SEQ")).append(':')
                        .append(r.getString("PK_NAME")).append(' ');
                }
            }
            check(pk.toString().equals("jd.items:id:1:items_pkey "), "getPrimaryKeys " + pk);
            StringBuilder schemas = new StringBuilder();
            try (ResultSet r = md.getSchemas()) {
                while (r.next()) {
                    schemas.append(r.getString("TABLE_SCHEM")).append(' ');
                }
            }
            check((" " + schemas).contains(" jd ") && (" " + schemas).contains(" pg_catalog ")
                && (" " + schemas).contains(" information_schema "), "getSchemas " + schemas);
            StringBuilder jschemas = new StringBuilder();
            try (ResultSet r = md.getSchemas(null, "j%")) {
                while (r.next()) {
                    jschemas.append(r.getString("TABLE_SCHEM")).append(' ');
                }
            }
            check(jschemas.toString().equals("jd "), "getSchemas pattern " + jschemas);
            StringBuilder types = new StringBuilder();
            boolean int8 = false, text = false, numeric = false;
            try (ResultSet r = md.getTypeInfo()) {
                while (r.next()) {
                    String n = r.getString("TYPE_NAME");
                    int dt = r.getInt("DATA_TYPE");
                    types.append(n).append(':').append(dt).append(' ');
                    int8 |= n.equals("int8") && dt == Types.BIGINT;
                    text |= n.equals("text") && dt == Types.VARCHAR;
                    numeric |= n.equals("numeric") && dt == Types.NUMERIC && r.getShort("MAXIMUM_SCALE") == 1000;
                }
            }
            check(int8 && text && numeric, "getTypeInfo " + types);
        }
        System.out.println("done");
    }
}
