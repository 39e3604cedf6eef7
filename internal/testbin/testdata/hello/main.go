// Command hello is the tiny main package testbin's own tests build.
package main

import "fmt"

func main() { fmt.Println("hello from testbin") }
