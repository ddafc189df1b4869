// Command biaogan is the whole product in one binary.
package main

import (
	"os"

	"github.com/biaogan/biaogan/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
