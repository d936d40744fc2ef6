"""Train the churn classifier and save it (sample code: never run by ramparts)."""

import pickle

import pandas as pd
from openai import OpenAI
from sklearn.linear_model import LogisticRegression

client = OpenAI()  # reads OPENAI_API_KEY from the environment


def describe(row: dict) -> str:
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Summarise this customer: {row}"}],
    )
    return reply.choices[0].message.content


def main() -> None:
    df = pd.read_csv("data/customers.csv")
    X = df[["spend"]].to_numpy()
    y = (df["spend"] > 300).astype(int)
    model = LogisticRegression().fit(X, y)
    with open("models/classifier.pkl", "wb") as fh:
        pickle.dump(model, fh)


if __name__ == "__main__":
    main()
