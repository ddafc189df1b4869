package appeal

var messagesZH = map[string]string{}

var messagesEN = map[string]string{}
