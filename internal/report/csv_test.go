package report_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/report"
)

func TestCSVCell(t *testing.T) {
	tests := map[string]string{
		"=SUM(A1)":          "'=SUM(A1)",
		"+1":                "'+1",
		"-cmd":              "'-cmd",
		"@x":                "'@x",
		"v1.0":              "v1.0",
		"":                  "",
		"High\x1b[5m":       "High [5m",
		"a\nb\tc":           "a b c",
		`=HYPERLINK("x")`:   `'=HYPERLINK("x")`,
		"\t=cmd, tab first": "' =cmd, tab first",
	}
	for in, want := range tests {
		require.Equal(t, want, report.CSVCell(in), "CSVCell(%q)", in)
	}
	var buf bytes.Buffer
	cw := report.NewCSVWriter(&buf)
	cw.Write([]string{"=1", "ok"})
	require.NoError(t, cw.Flush())
	require.Equal(t, "'=1,ok\n", buf.String())
}
