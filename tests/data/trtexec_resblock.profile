[
  { "count" : 500 }
, { "name" : "conv1 + relu1", "timeMs" : 40.0, "averageMs" : 0.08, "medianMs" : 0.078, "percentage" : 40.0 }
, { "name" : "conv2 input reformatter 0", "timeMs" : 5.0, "averageMs" : 0.01, "medianMs" : 0.01, "percentage" : 5.0 }
, { "name" : "conv2", "timeMs" : 35.0, "averageMs" : 0.07, "medianMs" : 0.069, "percentage" : 35.0 }
, { "name" : "add + relu2", "timeMs" : 10.0, "averageMs" : 0.02, "medianMs" : 0.021, "percentage" : 10.0 }
, { "name" : "pool", "timeMs" : 10.0, "averageMs" : 0.02, "medianMs" : 0.02, "percentage" : 10.0 }
]
