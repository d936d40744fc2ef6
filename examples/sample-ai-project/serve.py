"""Serve predictions (sample code with a planted flaw: it unpickles the model)."""

import pickle

from flask import Flask, jsonify, request

app = Flask(__name__)
with open("models/classifier.pkl", "rb") as fh:
    model = pickle.load(fh)  # loading an untrusted pickle runs its code


@app.post("/predict")
def predict():
    spend = float(request.json["spend"])
    return jsonify({"churn": int(model.predict([[spend]])[0])})
